"""Azure Functions adapters: one blueprint per trigger, each decoding an event and calling `shared`."""
