"""`evroam demo`: a CPO node and an eMSP node roaming end to end, told step by step (`story`)."""
