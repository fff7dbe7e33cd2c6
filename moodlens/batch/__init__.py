"""Batch analysis of many videos and photos: files found, engines (local processes, Ray) and tables."""
