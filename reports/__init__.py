"""Reports read from the results store only: never from the harness's live state."""
