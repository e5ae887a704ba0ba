"""Answering: the extractive answerer (default, offline), the LLM chain, and citation verification."""
