"""Reading and writing media: frame sources, image files, the drawn overlay and the files a run writes."""
