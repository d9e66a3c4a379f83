"""vulture's whitelist: names it reports as unused that are used where it cannot see.

Read by ``make deadcode`` (configured in pyproject's ``[tool.vulture]``): vulture counts a name used
when it appears here. Each entry says who uses it. Add an entry only after grep shows the name is
really used (by a framework, by name in a string, or by the tests as their hook); delete code that
is really dead instead. Not shipped: packaging/ is outside the viewer package.
"""

# ruff: noqa: B018, F821

# --- Qt calls these virtual overrides itself (events, item models)
_.paintEvent  # qt_image_view.ImageView
_.mousePressEvent  # qt_image_view.ImageView
_.mouseMoveEvent  # qt_image_view.ImageView
_.mouseReleaseEvent  # qt_image_view.ImageView
_.mouseDoubleClickEvent  # qt_image_view.ImageView
_.wheelEvent  # qt_image_view.ImageView
_.dragEnterEvent  # qt_main_window.QtMainWindow: files dropped on the window
_.dropEvent  # qt_main_window.QtMainWindow
_.columnCount  # qt_audit_table.AuditTableModel (QAbstractTableModel)
_.headerData  # qt_audit_table.AuditTableModel (QAbstractTableModel)
_.sizeHint  # qt_plot.QtPlot: layouts ask a chart for its preferred size

# --- kept alive on purpose
_._heat_rgba  # qt_image_view: the QImage wraps this numpy buffer uncopied; it must outlive it

# --- hooks only the tests call (their API into widgets and records)
_.is_busy  # QtAuditWindow, QtModelManager: tests/ui/test_audit_window.py, test_model_manager.py
_.is_exporting  # QtAuditWindow: tests/ui/test_audit_window.py
_.showing_loading_preview  # QtImageView: tests/ui/test_j2k_preview.py
_.verify_outcome  # QtAuditWindow: tests/ui/test_audit_window.py
_.central_outcome  # QtAuditWindow: tests/ui/test_audit_window_central.py
_.status_kind  # QtDecisionPanel: tests/ui/test_panels.py
_.displayed_buffer  # ImageView: tests/ui/test_image_view.py
_.thumbnail_count  # StudyBrowser: tests/ui/test_study_browser.py
_.visible_tags  # TagBrowser: tests/ui/test_panels.py
_.set_paused  # QtWorklist: tests/ui/test_main_window.py, test_main_extras.py
current_language  # viewer.ui.i18n: tests/ui/test_i18n.py
_.stored_checkpoints  # AuditLog: tests/audit/test_export.py
_.with_user_values  # Settings: tests/ui/test_settings.py
_.finding_text  # inference.postprocess result: tests/inference/test_postprocess.py
_.stage  # session.reading.ReadingSession: tests/session/test_reading.py
write_archive  # bundle.archive: tests/bundle/test_signing.py, tests/ui/test_model_manager.py
write_signed_folder  # bundle.signing: packs a model-signing folder (tests/bundle/test_signing.py)
read_directory  # bundle.archive: tests/bundle/test_signing.py, test_archive.py
write_directory  # bundle.archive: tests/bundle/test_signing.py

# --- column names that document the table's order (only the status and score columns are read)
COL_PATIENT  # qt_worklist
COL_DATE  # qt_worklist
COL_VIEW  # qt_worklist

# --- torch
_.forward  # bundle._nets: nn.Module.__call__ runs forward
_.conv  # bundle._nets: a submodule, registered by nn.Module.__setattr__ (state-dict key "...conv")
densenet121  # bundle._nets: architectures.py looks the factories up by name (getattr)
resnet18  # bundle._nets: architectures.py, by name
resnet50  # bundle._nets: architectures.py, by name
demo_cnn  # bundle._nets: architectures.py, by name ("demo-cnn" -> "demo_cnn")

# --- pydicom
_decode_frame  # dicom.codecs: registered with pydicom's decoder table as (module, "_decode_frame")
# Dataset attributes set by keyword (synthetic images, the VOI window dataset, file meta): pydicom
# stores them as data elements that are written out or read back by tag.
_.AccessionNumber
_.BitsAllocated
_.BitsStored
_.BodyPartExamined
_.Columns
_.ContentDate
_.ContentTime
_.HighBit
_.ImageType
_.ImagerPixelSpacing
_.ImplementationClassUID
_.ImplementationVersionName
_.InstanceNumber
_.InstitutionName
_.Laterality
_.Manufacturer
_.ManufacturerModelName
_.MediaStorageSOPClassUID
_.MediaStorageSOPInstanceUID
_.PatientBirthDate
_.PatientID
_.PatientName
_.PatientOrientation
_.PatientSex
_.PhotometricInterpretation
_.PixelRepresentation
_.PresentationIntentType
_.ReferringPhysicianName
_.RescaleIntercept
_.RescaleSlope
_.RescaleType
_.Rows
_.SOPClassUID
_.SamplesPerPixel
_.SeriesDescription
_.SeriesInstanceUID
_.SeriesNumber
_.SpecificCharacterSet
_.StudyDescription
_.StudyID
_.StudyInstanceUID
_.TransferSyntaxUID
_.VOILUTFunction
_.ViewPosition
_.WindowCenter
_.WindowCenterWidthExplanation
_.WindowWidth
# viewer.pacs SR/SC/GSPS (issue 17): attributes set by keyword, written out by tag (PS3.3 modules)
_.BurnedInAnnotation
_.CodeMeaning
_.CodeValue
_.CodingSchemeDesignator
_.ContributingEquipmentSequence
_.ContributionDateTime
_.ContributionDescription
_.DerivationDescription
_.DeviceUID
_.ImageComments
_.PresentationCreationDate
_.PresentationCreationTime
_.PurposeOfReferenceCodeSequence
_.RecognizableVisualFeatures
_.ReferencedSOPClassUID
_.ReferencedSOPInstanceUID
_.SoftwareVersions
_.SourceImageSequence
_.TimezoneOffsetFromUTC

# --- zipfile
_.compress_type  # bundle.archive: set on a ZipInfo, read by ZipFile.writestr
_.create_system  # bundle.archive: set on a ZipInfo, written by ZipFile.writestr
_.external_attr  # bundle.archive: set on a ZipInfo (regular file, mode 0644), written by writestr

# --- reportlab: chart, axis and legend properties read by the renderer
_.angle
_.boxAnchor
_.categoryNames
_.colorNamePairs
_.fillColor
_.fontSize
_.joinedLines
_.strokeColor
_.strokeDashArray
_.strokeWidth
_.symbol
_.valueMax
_.valueMin
_.valueStep

# --- pydantic (validators are ignored by decorator in pyproject)
_.model_config  # BaseModel configuration (config, manifest, preprocess)
_.is_patch_data  # bundle.manifest: manifest fields, parsed from and dumped to the manifest JSON
_.channel_def  # bundle.manifest: a manifest field
_.format_version  # bundle.manifest: a manifest field (Literal[1], checked on parse)

# --- enum members stored and parsed by value (EventType(row.type))
APP_START  # audit.events.EventType
APP_STOP  # audit.events.EventType
BUNDLE_VERIFIED  # audit.events.EventType
BUNDLE_REFUSED  # audit.events.EventType
BUNDLE_INSTALLED  # audit.events.EventType
BUNDLE_ACTIVATED  # audit.events.EventType
BUNDLE_ROLLED_BACK  # audit.events.EventType
IMAGE_OPENED  # audit.events.EventType
IMAGE_EXPORTED  # audit.events.EventType: written by session.export.record_export by value
AI_RESULT_SHOWN  # audit.events.EventType
SHADOW_STARTED  # audit.events.EventType: written by bundle.store.set_shadow by value
SHADOW_STOPPED  # audit.events.EventType: written by bundle.store.stop_shadow by value

# --- record fields: part of the data, serialised whole (dataclasses.asdict)
_.birth_date  # dicom.index.PatientNode: StudyIndex.to_dict (bedside dicom scan --json)
_.sex  # dicom.index.PatientNode: StudyIndex.to_dict
_.patient_orientation  # dicom.model.ImageMetadata: StudyIndex.to_dict, per instance
_.pixel_representation  # dicom.model.ImageMetadata: StudyIndex.to_dict, per instance
_.manufacturer  # dicom.model.ImageMetadata: StudyIndex.to_dict, per instance
_.out_shape  # inference.preprocess.Geometry: tests/inference/test_preprocess.py
_.queued  # session.trail.AppendOutcome: set by AuditTrail.append (queued=True); the third state

# --- protocol signatures
exc_type  # audit.store.AuditLog.__exit__: the context-manager protocol's parameter

# --- Python calls it itself
__getattr__  # viewer/dicom/__init__.py: PEP 562, a missing module attribute (lazy public names)

# --- known dead, in files others are changing right now: delete there, then drop the line here
FORMAT_VERSION  # bundle.manifest: nothing reads it (the field is Literal[1])

# --- viewer.monitoring: report dataclass fields read through dataclasses.asdict (JSON, PDF)
n_reference  # monitoring.monitor.DriftTest, serialised by ModelReport.as_dict()
distance  # monitoring.monitor.DriftTest (Jensen-Shannon), serialised by as_dict()
p_adjusted  # monitoring.monitor.DriftTest (Bonferroni-adjusted p), serialised by as_dict()
baseline_n  # monitoring.monitor.Chart, serialised by as_dict()
refusals_by_reason  # monitoring.monitor.ModelReport, serialised by as_dict()
fontName  # monitoring.pdf: a reportlab ParagraphStyle attribute, read by reportlab
from_samples  # monitoring.profile.ReferenceProfile: the builder for bundle makers (item 1), tests
find_class  # bundle.torchfile._Reader: pickle.Unpickler's hook (the allow-list), called by pickle
persistent_load  # bundle.torchfile._Reader: pickle.Unpickler's hook for torch's storage references

# --- viewer.evaluation: dataclass fields read through dataclasses.asdict (reports, --json)
successes  # evaluation.stats.Proportion, serialised by as_dict()
estimate  # evaluation.stats.Proportion, serialised by as_dict()
lower_one_sided  # evaluation.stats.Proportion, serialised by as_dict()
exact_p  # evaluation.stats.McNemarResult, serialised by as_dict()
chi2_p  # evaluation.stats.McNemarResult, serialised by as_dict()
covariance  # evaluation.stats.PairedAuc, serialised by as_dict()
sensitivity  # evaluation.recalibrate.Proposal, serialised by as_dict()
specificity  # evaluation.recalibrate.Proposal, serialised by as_dict()
alert_rate  # evaluation.recalibrate.Proposal, serialised by as_dict()

# --- viewer.audit.change_record: pydantic fields, signed and serialised whole (model_dump)
file_name  # audit.change_record.Evidence: the evidence file's name, kept in the signed record
created_at  # audit.change_record.ChangeRecord: when it was made, kept in the signed record
_.history_rows  # QtModelManager: tests/ui/test_model_manager.py reads the change history shown

# --- viewer.inference.ood
out_of_fold  # OodFit: the distances behind the threshold; tests/inference/test_ood.py reads it

# --- viewer.ui.shortcuts (issue 14 item 3)
_.eventFilter  # shortcuts.TypingGuard: Qt calls it (QApplication.installEventFilter)

# --- viewer.pacs (issue 17): attributes libraries read
_.connection_timeout  # pacs.dimse: pynetdicom AE reads it when it connects
_.acse_timeout  # pacs.dimse: pynetdicom AE reads it while associating
_.dimse_timeout  # pacs.dimse: pynetdicom AE reads it per DIMSE message
_.network_timeout  # pacs.dimse: pynetdicom AE reads it on an idle association
_.QueryRetrieveLevel  # pacs.dimse: a pydicom keyword (0008,0052), encoded into the C-FIND/C-GET
_.cert  # pacs.web: requests.Session reads its client certificate for each request
_._shutdown_socket  # pacs.dimse.ClosingSocket: pynetdicom calls its override (closes on failure)
_._create_socket  # pacs.dimse.ClosingAE: pynetdicom's AE.associate calls its override
ConnectionCls  # pacs.web._pools: urllib3's connection pool makes its connections from it
_.pool_classes_by_scheme  # pacs.web._BoundedAnswers: urllib3's PoolManager picks pools from it
_.maximum_associations  # bench/bench_pacs_abort.py: pynetdicom's AE reads it per association

# --- viewer.session.prewarm (issue 19 item 4)
GUI_MODULES  # the modules import_gui_modules imports, by name: tests check each is loaded
MODEL_MODULES  # the modules import_model_modules imports after torch: tests check each is loaded
