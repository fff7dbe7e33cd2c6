"""The training input pipeline on tf.data, with augmentation by Keras preprocessing layers.

Faces arrive already decoded and scaled to [0, 1] (see `data.py`), so the pipeline only shuffles
the in-memory array each epoch, augments (training only), batches and prefetches.
"""

import keras
import numpy as np
import tensorflow as tf

from moodlens.training.data import Split

ROTATION_DEGREES = 10
SHIFT = 0.1  # fraction of the face size
ZOOM = 0.1
BLUR_SIGMA = 1.0  # pixels at 48x48: a soft-focus or small webcam face
NOISE = 0.02  # sensor noise, as a fraction of the grey range


def augmenter(seed: int | None = None) -> keras.Sequential:
    """Random flip, rotation, zoom, shift, blur, noise and erasing: the variation a live face crop shows.

    Each layer gets its own seed: layers given one seed draw the same numbers, so a face would be
    flipped exactly when its rotation is negative and zoomed in step with the angle.
    """
    seeds = iter(range(seed, seed + 7)) if seed is not None else iter([None] * 7)
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=next(seeds)),
            # Keras rotation factors are fractions of a full turn.
            keras.layers.RandomRotation(ROTATION_DEGREES / 360, fill_mode="reflect", seed=next(seeds)),
            keras.layers.RandomZoom(ZOOM, fill_mode="reflect", seed=next(seeds)),
            keras.layers.RandomTranslation(SHIFT, SHIFT, fill_mode="reflect", seed=next(seeds)),
            keras.layers.RandomGaussianBlur(1.0, kernel_size=5, sigma=(0.0, BLUR_SIGMA), value_range=(0, 1),
                                            seed=next(seeds)),
            keras.layers.GaussianNoise(NOISE, seed=next(seeds)),
            keras.layers.RandomErasing(factor=0.5, scale=(0.02, 0.15), value_range=(0, 1), seed=next(seeds)),
        ],
        name="augment",
    )


def make_dataset(
    split: Split, batch_size: int, training: bool, seed: int | None = None,
    teacher: keras.Model | None = None, teacher_weight: float = 0.5,
) -> tf.data.Dataset:
    """Batches of (faces, one-hot labels); shuffled anew and augmented each epoch when training.

    With a `teacher` (distillation), each training target becomes `teacher_weight` of the teacher's
    probabilities for the augmented face the student sees, and the rest of the face's own target.
    """
    targets = split.targets() if training else np.eye(len(split.labels), dtype=np.float32)[split.y]
    ds = tf.data.Dataset.from_tensor_slices((split.x, targets))
    if training:
        # Shuffle before batching, on every epoch (a cache after a shuffle would replay one order).
        ds = ds.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if training:
        augment = augmenter(seed)
        ds = ds.map(lambda x, y: (tf.clip_by_value(augment(x, training=True), 0.0, 1.0), y),
                    num_parallel_calls=tf.data.AUTOTUNE)
        if teacher is not None:
            ds = ds.map(lambda x, y: (x, (1 - teacher_weight) * y + teacher_weight * teacher(x, training=False)))
    return ds.prefetch(tf.data.AUTOTUNE)
