"""Operation exports: md, json, csv, STIX 2.1, MISP, pdf. Pure functions of a snapshot."""
