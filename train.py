"""Train the emotion CNN on 48x48 grayscale faces and save the best epoch to model_file.h5.

Run as `python train.py ...` or, once installed, `moodlens train ...`: both are moodlens/commands/train.py
(`python train.py --help` lists the options).
"""

from moodlens.commands import run_command

if __name__ == "__main__":
    run_command("train")
