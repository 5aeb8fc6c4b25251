"""Scripts: Python jobs with a typed input, run in a child process (`vcore-app script run NAME`)."""
