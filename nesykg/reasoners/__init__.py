"""Reasoners: link predictors (embeddings, GNNs, rules) and fuzzy logic over them."""
