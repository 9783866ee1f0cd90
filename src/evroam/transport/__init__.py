"""HTTP transport: envelope, credentials-token header, request ids, routing headers, pagination."""
