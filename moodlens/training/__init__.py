"""Training the emotion networks: labelled faces and their targets, the tf.data pipeline and the loop."""
