"""Package marker so the folder ships in wheels (the module loads with `evaluate.load(<folder>)`)."""
