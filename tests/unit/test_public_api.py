"""The curated public API: what `import evroam` promises. Changing it is a deliberate act."""

import evroam


def test_public_api_is_exactly_the_curated_names() -> None:
    assert sorted(evroam.__all__) == sorted(
        ["Node", "OcpiClient", "OcpiError", "Settings", "StatusCode", "UrlPolicy", "__version__", "create_app"]
    )
    for name in evroam.__all__:
        assert getattr(evroam, name) is not None
