"""A fast, deterministic discrete-event simulator of LLM serving replicas."""
