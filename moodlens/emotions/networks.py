"""The networks: the classic 4-block seed CNN, our 4-block CNN with batch normalization (and its
half-width version, for a student distilled from it), and a deeper VGG-style teacher.

All take (48, 48, 1) faces in [0, 1] (see `preprocess.to_model_input`) and end in a softmax over
the classes. Augmentation is not part of the model: it runs in the training input pipeline only.
"""

import keras
from keras import layers

from moodlens.emotions.preprocess import INPUT_SHAPE

FILTERS = (32, 64, 128, 256)


def build_seed(num_classes: int) -> keras.Model:
    """The classic tutorial CNN: one 3x3 conv per block, 2x2 pooling, dropout, Dense 512."""
    model = keras.Sequential([keras.Input(INPUT_SHAPE)], name="seed")
    for filters in FILTERS:
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D(2))
        model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(512, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(num_classes, activation="softmax"))
    return model


def conv_bn_relu(x, filters: int):
    """3x3 convolution, batch normalization, ReLU (the conv needs no bias before BN)."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


BN_CONVS = (1, 2, 2, 2)  # a second conv at 48x48 would cost as much as a whole later block
VGG_CONVS = (2, 2, 3, 3)  # 10 conv layers, as the VGG-style nets published at 72-73 % on FER2013


def build_bn(num_classes: int, width: float = 1.0, convs: tuple[int, ...] = BN_CONVS, name: str = "bn") -> keras.Model:
    """Our default: 4 blocks of BN convs (`convs` per block), 2x2 pooling and dropout, then the seed's head.

    `width` scales every layer's filters and units: at 0.5 the network does a quarter of the work.
    With `VGG_CONVS` it is the deeper teacher, trained long and distilled (`train.py --teacher`)."""
    inputs = keras.Input(INPUT_SHAPE)
    x = inputs
    for block, (filters, repeats) in enumerate(zip(FILTERS, convs)):
        for _ in range(repeats):
            x = conv_bn_relu(x, round(filters * width))
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(0.1 + 0.05 * block)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(round(512 * width), use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


ARCHITECTURES = {
    "bn": build_bn,
    "bn-half": lambda classes: build_bn(classes, width=0.5, name="bn_0.5"),
    "vgg": lambda classes: build_bn(classes, convs=VGG_CONVS, name="vgg"),
    "seed": build_seed,
}


def build_model(arch: str, num_classes: int) -> keras.Model:
    """Build an architecture by name (see ARCHITECTURES)."""
    return ARCHITECTURES[arch](num_classes)
