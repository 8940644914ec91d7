"""Credit Card Processor: the product's logic as plain Python, shared by every runtime."""
