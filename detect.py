"""See emotions live: boxes, emotions and confidences on every face of a webcam, video or photo.

Run as `python detect.py ...` or, once installed, `moodlens detect ...`: both are moodlens/commands/detect.py
(`python detect.py --help` lists the options).
"""

from moodlens.commands import run_command

if __name__ == "__main__":
    run_command("detect")
