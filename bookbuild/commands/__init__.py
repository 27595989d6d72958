"""The orchestrators: the only modules that know the order of the stages."""
