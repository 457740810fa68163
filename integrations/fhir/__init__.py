"""FHIR R4: the door to EHRs. `mapping` turns Rota's records into FHIR resources and back
(validated with the fhir.resources R4B models); `exchange` writes and reads Bundles."""
