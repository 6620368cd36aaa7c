"""The Lab: visual AutoML for people who do not code (see docs/user-guide.md, "The Lab").

An ``Analysis`` says what to predict from which dataset and how (target, task, feature handling,
algorithms, time budget, validation, metric); each "Train" makes a ``TrainingSession`` run by the
``lab.train`` job: every trial is a tracked MLflow run, and the best model is saved as an MLflow
model with its evaluation and explanations.
"""
