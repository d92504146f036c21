"""Sample sales datasets with planted, documented effects, and the code that builds them."""
