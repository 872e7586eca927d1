"""Loss families: one kernel per loss, each family importing only :mod:`jaxloss._src.core`."""
