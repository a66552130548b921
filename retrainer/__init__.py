"""The retrainer: drift events in, challenger trained and evaluated, champion promoted."""
