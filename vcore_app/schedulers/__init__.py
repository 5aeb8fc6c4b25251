"""Schedulers: rows that create jobs on a timetable.

`service` changes them (the domain functions handlers call), `times` computes when they fire (pure
functions of time), `thread` is the thread that fires them when they are due.
"""
