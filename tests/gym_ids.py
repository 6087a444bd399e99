"""Env ids that Gymnasium renamed between the versions setup.cfg allows."""

from agents.environments import first_registered

#: Taxi-v4 from Gymnasium 1.3 on, Taxi-v3 before (the same game).
TAXI = first_registered("Taxi-v4", "Taxi-v3")
