"""Synthetic temporal-forgery data, trainer and evaluation for the shipped demo model.

Everything here is generated from public-domain / CC0 images that ship with Debian's
python3-skimage; no external dataset is used. See README.md.
"""
