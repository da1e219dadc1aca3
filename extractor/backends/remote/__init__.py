"""OpenAI-compatible HTTP backends: the client, tenacity transport retries."""
