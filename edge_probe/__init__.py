"""edge_probe: what runs on the user's device — the probe face model, its gradient signal, the wire format and the client."""
