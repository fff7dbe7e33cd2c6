"""Reading emotions from face crops: the one preprocessing path, the networks, model files, TFLite,
ensembles and calibration."""
