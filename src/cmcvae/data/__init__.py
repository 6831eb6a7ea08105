"""Data: readers, preprocessing, priors, protein↔gene map and the simulator."""
