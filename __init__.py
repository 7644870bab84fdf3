"""Treadle: tensor programs to fast code and faithful performance predictions, on xDSL."""
