"""The clinic domain and its storage. Depends on nothing of ours."""
