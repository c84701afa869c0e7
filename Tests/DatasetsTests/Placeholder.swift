// Datasets tests land here.
