"""Operation exports: md, json, csv, STIX 2.1, pdf. Pure functions of a snapshot."""
