"""The echo overlay: the smallest agent that honours the contract (README.md)."""
