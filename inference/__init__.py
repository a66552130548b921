"""The inference worker: a Faust app that scores prediction requests with the current model."""
