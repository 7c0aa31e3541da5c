"""Helpers the tests share: fakes, real-service access, databases, fixtures. Nothing here is collected as a test."""
