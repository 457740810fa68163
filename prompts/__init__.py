"""The text of every LLM prompt, one file each."""
