"""Finding faces in a frame (Haar cascade, BlazeFace), following them across frames, and scene cuts."""
