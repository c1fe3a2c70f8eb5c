"""Training Clearline's answerability model: `python -m training.answerability`."""
