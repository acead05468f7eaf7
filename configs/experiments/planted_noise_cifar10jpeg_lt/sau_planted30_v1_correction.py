# Arm 3 with the label correction judging synthetic samples on view v1
# (crop + flip) instead of v2 / v3: model.correction_view='v1', an option,
# not the paper's method.
_base_ = './sau_planted30.py'
model = dict(correction_view='v1')
