"""The EU AI Act risk-classification questionnaire (Regulation (EU) 2024/1689), written for business users.

Every question is a plain yes/no about what the system does, with a help text and the article or annex
it comes from. The questions are grouped the way the Act reasons:

1. prohibited practices (Article 5);
2. high-risk systems: safety components of products under Annex I law (Article 6(1)) and the areas of
   Annex III (Article 6(2)), then the Article 6(3) exemption for Annex III systems that pose no
   significant risk (never for systems that profile people);
3. transparency duties (Article 50);
4. otherwise minimal risk.

A *follow-up* question matters only when its ``parent`` is answered yes (e.g. the medical or safety
exception to the ban on emotion recognition at work); unanswered follow-ups count as no. One free-text
answer, ``exemption_justification``, is required when an Article 6(3) exemption is claimed (Article 6(4):
the provider documents the assessment).

The definition is data: ``classify`` (``aiact_classification``), the page form and the API all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ANNEX_III_KEYS",
    "EXEMPTION_KEYS",
    "GROUPS",
    "JUSTIFICATION_KEY",
    "PROHIBITED_KEYS",
    "QUESTIONS",
    "QUESTIONS_BY_KEY",
    "TRANSPARENCY_KEYS",
    "Group",
    "Question",
    "questions_of",
]

DISCLAIMER = (
    "This questionnaire helps you find which obligations of the EU AI Act (Regulation (EU) 2024/1689) "
    "are likely to apply. It is not legal advice: have the result confirmed by your legal or compliance "
    "team before relying on it."
)


@dataclass(frozen=True)
class Group:
    """A section of the questionnaire."""

    key: str
    title: str
    intro: str


@dataclass(frozen=True)
class Question:
    """One yes/no question.

    Attributes:
        key: stable identifier, used in stored answers and the API.
        group: the ``Group.key`` it belongs to.
        text: the question, in business words.
        help: what it covers, with examples.
        basis: the article or annex it comes from, e.g. ``"Article 5(1)(a)"``.
        finding: the plain-language reason given when the answer is yes.
        parent: for a follow-up, the question it refines (asked only when that one is yes).
    """

    key: str
    group: str
    text: str
    help: str
    basis: str
    finding: str
    parent: str = ""

    @property
    def is_follow_up(self) -> bool:
        return bool(self.parent)


GROUPS: tuple[Group, ...] = (
    Group(
        "prohibited",
        "Prohibited practices (Article 5)",
        "Some uses of AI are banned in the EU since 2 February 2025. Answer yes if the system does, or "
        "could be used to do, any of these.",
    ),
    Group(
        "product",
        "Products under EU safety law (Article 6(1) and Annex I)",
        "AI that keeps a regulated product safe is high-risk when the product needs a third-party check.",
    ),
    Group(
        "annex_iii",
        "High-risk areas (Article 6(2) and Annex III)",
        "AI used for these purposes is high-risk, unless the exemption of the next section applies.",
    ),
    Group(
        "exemption",
        "Exemption for systems without significant risk (Article 6(3))",
        "Answer only if you answered yes to an area above. The exemption never applies when the system "
        "profiles people.",
    ),
    Group(
        "transparency",
        "Transparency duties (Article 50)",
        "These duties apply at any risk level: people must know when they deal with AI or AI-made content.",
    ),
)

_Q = Question

QUESTIONS: tuple[Question, ...] = (
    # --- Article 5 -----------------------------------------------------------------------------------
    _Q(
        "subliminal_manipulation",
        "prohibited",
        "Does the system use subliminal, manipulative or deceptive techniques to change how people "
        "behave, in a way that can cause them significant harm?",
        "For example hidden cues in an interface that push people into decisions they would not "
        "otherwise take, such as a purchase or a loan they cannot afford.",
        "Article 5(1)(a)",
        "It uses subliminal, manipulative or deceptive techniques that distort behaviour and can cause "
        "significant harm: a prohibited practice.",
    ),
    _Q(
        "exploits_vulnerabilities",
        "prohibited",
        "Does the system exploit people's vulnerabilities due to their age, a disability or their social "
        "or economic situation, in a way that can cause them significant harm?",
        "For example targeting people in financial distress with offers designed to exploit that "
        "distress, or toys that push children into dangerous behaviour.",
        "Article 5(1)(b)",
        "It exploits vulnerabilities due to age, disability or a social or economic situation: a "
        "prohibited practice.",
    ),
    _Q(
        "social_scoring",
        "prohibited",
        "Does the system score or classify people by their social behaviour or personal traits, leading "
        "to unfavourable treatment in unrelated contexts or out of proportion to that behaviour?",
        "Social scoring: e.g. refusing a service because of someone's activity on social media.",
        "Article 5(1)(c)",
        "It scores people on social behaviour or personal traits with detrimental treatment: social "
        "scoring is prohibited.",
    ),
    _Q(
        "predictive_policing",
        "prohibited",
        "Does the system predict whether a person will commit a crime based solely on profiling or on "
        "their personality traits?",
        "Systems supporting a human assessment based on objective, verifiable facts directly linked to a "
        "criminal activity are not covered by this ban.",
        "Article 5(1)(d)",
        "It predicts criminal offences based solely on profiling or personality traits: a prohibited "
        "practice.",
    ),
    _Q(
        "face_scraping",
        "prohibited",
        "Does the system build or expand facial-recognition databases by scraping facial images from "
        "the internet or CCTV footage without targeting specific people?",
        "Untargeted collection of faces from websites, social networks or camera footage.",
        "Article 5(1)(e)",
        "It builds facial-recognition databases by untargeted scraping of facial images: a prohibited "
        "practice.",
    ),
    _Q(
        "emotion_recognition_work_school",
        "prohibited",
        "Does the system infer the emotions of people at the workplace or in education?",
        "For example analysing employees' voices or faces in calls, or students' attention in class.",
        "Article 5(1)(f)",
        "It infers emotions of people at work or in education: a prohibited practice.",
    ),
    _Q(
        "emotion_recognition_medical_safety",
        "prohibited",
        "Is that emotion recognition used only for medical or safety reasons?",
        "For example detecting fatigue of a pilot or a lorry driver, or a therapeutic use.",
        "Article 5(1)(f)",
        "Emotion recognition at work or in education is used only for medical or safety reasons, which "
        "the ban excludes; it stays high-risk as emotion recognition (Annex III point 1(c)).",
        parent="emotion_recognition_work_school",
    ),
    _Q(
        "biometric_categorisation_sensitive",
        "prohibited",
        "Does the system use biometric data (face, voice, gait…) to deduce people's race, political "
        "opinions, trade-union membership, religious or philosophical beliefs, sex life or sexual "
        "orientation?",
        "Labelling or filtering of lawfully acquired biometric datasets for law enforcement is not covered.",
        "Article 5(1)(g)",
        "It categorises people by biometric data to deduce sensitive traits: a prohibited practice.",
    ),
    _Q(
        "realtime_remote_biometric_identification",
        "prohibited",
        "Is the system used for real-time remote biometric identification of people in publicly "
        "accessible spaces for law enforcement?",
        "Identifying people live from cameras in streets, stations, shops… by or for the police.",
        "Article 5(1)(h)",
        "It performs real-time remote biometric identification in public spaces for law enforcement: "
        "a prohibited practice.",
    ),
    _Q(
        "biometric_identification_authorised_exception",
        "prohibited",
        "Is that use limited to the exceptions of the Act (searching for victims of abduction or "
        "trafficking or missing persons, preventing an imminent threat to life or a terrorist attack, "
        "locating suspects of serious crimes) with prior authorisation by a judicial or independent "
        "authority?",
        "Article 5(1)(h)(i) to (iii) and 5(2) to 5(3): narrow exceptions, each use authorised beforehand.",
        "Article 5(1)(h) and 5(2)",
        "Real-time remote biometric identification is limited to the authorised exceptions of the Act; "
        "it stays high-risk as remote biometric identification (Annex III point 1(a)).",
        parent="realtime_remote_biometric_identification",
    ),
    # --- Annex I ----------------------------------------------------------------------------------------
    _Q(
        "annex_i_safety_component",
        "product",
        "Is the AI a safety component of a product (or itself a product) covered by the EU safety laws "
        "listed in Annex I, for which a third-party conformity assessment is required?",
        "Annex I includes machinery, toys, lifts, pressure equipment, radio equipment, medical devices, "
        "in-vitro diagnostics, cars and other vehicles, civil aviation, marine equipment and rail.",
        "Article 6(1) and Annex I",
        "It is a safety component of (or is) a product under Annex I law needing third-party "
        "conformity assessment: high-risk.",
    ),
    # --- Annex III --------------------------------------------------------------------------------------
    _Q(
        "annex_iii_biometrics",
        "annex_iii",
        "Is the system used for remote biometric identification, for biometric categorisation by "
        "sensitive or protected attributes, or for emotion recognition?",
        "Remote identification from a distance (not a simple check that people are who they claim to "
        "be, such as unlocking a phone).",
        "Annex III point 1",
        "It is used for biometrics (remote identification, categorisation or emotion recognition): a "
        "high-risk area.",
    ),
    _Q(
        "annex_iii_critical_infrastructure",
        "annex_iii",
        "Is the system a safety component in managing or operating critical digital infrastructure, "
        "road traffic, or the supply of water, gas, heating or electricity?",
        "For example controlling a power grid, water treatment or traffic lights.",
        "Annex III point 2",
        "It is a safety component of critical infrastructure: a high-risk area.",
    ),
    _Q(
        "annex_iii_education",
        "annex_iii",
        "Is the system used in education or vocational training to decide on admission, evaluate "
        "learning outcomes, assess the level of education someone will get, or monitor students during "
        "tests?",
        "For example ranking applicants to a school or grading exams automatically.",
        "Annex III point 3",
        "It is used to decide on access to education, evaluate learners or monitor tests: a high-risk area.",
    ),
    _Q(
        "annex_iii_employment",
        "annex_iii",
        "Is the system used in recruitment or to manage workers: targeting job ads, screening or "
        "evaluating candidates, deciding on promotions or terminations, allocating tasks based on "
        "behaviour or traits, or monitoring and evaluating performance?",
        "For example CV screening, candidate ranking or productivity scoring of employees.",
        "Annex III point 4",
        "It is used in employment and workers management: a high-risk area.",
    ),
    _Q(
        "annex_iii_public_benefits",
        "annex_iii",
        "Is the system used by or for public authorities to decide whether people are eligible for "
        "public assistance benefits and services (including healthcare), or to grant, reduce or revoke "
        "them?",
        "For example checking eligibility to housing or unemployment benefits.",
        "Annex III point 5(a)",
        "It evaluates eligibility to essential public assistance benefits and services: a high-risk area.",
    ),
    _Q(
        "annex_iii_credit_scoring",
        "annex_iii",
        "Is the system used to evaluate the creditworthiness of people or establish their credit score?",
        "Systems used only to detect financial fraud are not in this area.",
        "Annex III point 5(b)",
        "It evaluates creditworthiness or establishes credit scores of natural persons: a high-risk area.",
    ),
    _Q(
        "annex_iii_insurance_pricing",
        "annex_iii",
        "Is the system used for risk assessment and pricing of life or health insurance for individuals?",
        "Other insurance lines (car, home…) are not in this area.",
        "Annex III point 5(c)",
        "It assesses risk and prices life or health insurance for individuals: a high-risk area.",
    ),
    _Q(
        "annex_iii_emergency_services",
        "annex_iii",
        "Is the system used to evaluate and classify emergency calls, to dispatch or prioritise "
        "emergency services (police, firefighters, medical aid), or for emergency patient triage?",
        "For example prioritising calls to an emergency number.",
        "Annex III point 5(d)",
        "It evaluates emergency calls, dispatches emergency services or triages patients: a high-risk area.",
    ),
    _Q(
        "annex_iii_law_enforcement",
        "annex_iii",
        "Is the system used by or for law enforcement: assessing the risk that someone becomes a victim "
        "or (re)offends, polygraphs, evaluating the reliability of evidence, or profiling in the "
        "detection or investigation of crimes?",
        "Uses of this kind by the police or on their behalf.",
        "Annex III point 6",
        "It is used for law enforcement purposes: a high-risk area.",
    ),
    _Q(
        "annex_iii_migration",
        "annex_iii",
        "Is the system used in migration, asylum or border control: assessing risks posed by people, "
        "examining visa, asylum or residence applications, or detecting and identifying people?",
        "By or for public authorities and EU agencies.",
        "Annex III point 7",
        "It is used in migration, asylum or border control management: a high-risk area.",
    ),
    _Q(
        "annex_iii_justice",
        "annex_iii",
        "Is the system used to help a judicial authority or an alternative dispute resolution body "
        "research or interpret facts and the law, or apply the law to facts?",
        "For example suggesting outcomes of cases to judges or arbitrators.",
        "Annex III point 8(a)",
        "It assists the administration of justice: a high-risk area.",
    ),
    _Q(
        "annex_iii_elections",
        "annex_iii",
        "Is the system used to influence the outcome of an election or referendum, or people's voting "
        "behaviour?",
        "Tools only organising or optimising political campaigns from an administrative point of view "
        "are not covered.",
        "Annex III point 8(b)",
        "It is intended to influence elections, referendums or voting behaviour: a high-risk area.",
    ),
    # --- Article 6(3) -----------------------------------------------------------------------------------
    _Q(
        "profiling",
        "exemption",
        "Does the system profile people, i.e. evaluate personal aspects such as their work performance, "
        "economic situation, health, preferences, interests, reliability, behaviour, location or "
        "movements?",
        "Profiling as defined by Article 4(4) GDPR. If yes, the exemptions below can never apply.",
        "Article 6(3), last subparagraph",
        "It profiles natural persons, so the Article 6(3) exemption cannot apply.",
    ),
    _Q(
        "exemption_narrow_procedural_task",
        "exemption",
        "Does the system only perform a narrow procedural task?",
        "For example turning unstructured documents into structured data, or classifying incoming "
        "documents into categories.",
        "Article 6(3)(a)",
        "It only performs a narrow procedural task.",
    ),
    _Q(
        "exemption_improves_human_work",
        "exemption",
        "Does the system only improve the result of an activity a person has already completed?",
        "For example improving the language of a document a person already wrote.",
        "Article 6(3)(b)",
        "It only improves the result of a previously completed human activity.",
    ),
    _Q(
        "exemption_detects_patterns",
        "exemption",
        "Does the system only detect decision patterns or deviations from earlier patterns, without "
        "replacing or influencing a human assessment made without proper human review?",
        "For example flagging grades that deviate from a teacher's usual grading, for the teacher to check.",
        "Article 6(3)(c)",
        "It only detects decision-making patterns or deviations, with proper human review.",
    ),
    _Q(
        "exemption_preparatory_task",
        "exemption",
        "Does the system only perform a preparatory task for an assessment that a person makes?",
        "For example indexing, searching or translating files that a person then assesses.",
        "Article 6(3)(d)",
        "It only performs a preparatory task to an assessment relevant for an Annex III purpose.",
    ),
    # --- Article 50 -------------------------------------------------------------------------------------
    _Q(
        "interacts_with_people",
        "transparency",
        "Does the system interact directly with people (a chatbot, a voice assistant, an automated agent)?",
        "People must be told they are dealing with an AI, unless it is obvious.",
        "Article 50(1)",
        "It interacts directly with people: they must be informed they are interacting with an AI system.",
    ),
    _Q(
        "generates_synthetic_content",
        "transparency",
        "Does the system generate synthetic audio, images, video or text?",
        "Outputs must be marked in a machine-readable format and detectable as AI-generated.",
        "Article 50(2)",
        "It generates synthetic content: outputs must be marked as artificially generated.",
    ),
    _Q(
        "emotion_or_biometric_categorisation",
        "transparency",
        "Does the system recognise emotions or categorise people from biometric data (outside the "
        "banned uses above)?",
        "For example estimating customer satisfaction from facial expressions.",
        "Article 50(3)",
        "It recognises emotions or categorises people biometrically: the people exposed must be informed.",
    ),
    _Q(
        "deep_fakes",
        "transparency",
        "Does the system create or alter images, audio or video that resemble real people, places or "
        "events (deep fakes)?",
        "Deep fakes must be disclosed as artificially generated or manipulated.",
        "Article 50(4)",
        "It produces deep fakes: they must be disclosed as artificially generated or manipulated.",
    ),
    _Q(
        "public_interest_text",
        "transparency",
        "Does the system generate or alter text published to inform the public on matters of public "
        "interest, without human editorial review?",
        "Text under human editorial control with a person holding editorial responsibility is exempt.",
        "Article 50(4), second subparagraph",
        "It generates text published to inform the public: it must be disclosed as AI-generated.",
    ),
)

QUESTIONS_BY_KEY: dict[str, Question] = {q.key: q for q in QUESTIONS}

#: The free-text answer explaining a claimed Article 6(3) exemption (Article 6(4)).
JUSTIFICATION_KEY = "exemption_justification"
JUSTIFICATION_HELP = (
    "Required when you claim an exemption: explain why the system poses no significant risk of harm to "
    "health, safety or fundamental rights. The Act requires this assessment to be documented before the "
    "system is placed on the market or put into service (Article 6(4)), and the system registered "
    "(Article 49(2))."
)

PROHIBITED_KEYS = tuple(q.key for q in QUESTIONS if q.group == "prohibited" and not q.parent)
ANNEX_III_KEYS = tuple(q.key for q in QUESTIONS if q.group == "annex_iii")
EXEMPTION_KEYS = (
    "exemption_narrow_procedural_task",
    "exemption_improves_human_work",
    "exemption_detects_patterns",
    "exemption_preparatory_task",
)
TRANSPARENCY_KEYS = tuple(q.key for q in QUESTIONS if q.group == "transparency")


def questions_of(group: str) -> list[Question]:
    """The questions of ``group``, in order."""
    return [q for q in QUESTIONS if q.group == group]
