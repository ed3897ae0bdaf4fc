"""The web layer: Flask blueprints that turn HTTP into flow calls and Outgoing into HTTP."""
