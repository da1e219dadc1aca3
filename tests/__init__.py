"""The test suite (unit, integration against loopback servers, real small-model tests)."""
