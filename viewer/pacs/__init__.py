"""PACS integration (issue 17): DICOM SR/SC/GSPS objects, DIMSE and DICOMweb transports, the
outbox that delivers them. Qt-free; below the session, above the core."""
