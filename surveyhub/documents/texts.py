"""The words on every document, in plain Dutch (B1) and English.

Documents are printed for one reader in one language, whatever the worker's
screen language, so their wording lives here rather than in the web
translations. Keep the words of WRITING.md's table: vaardigheid, nulmeting,
eindmeting, terugblik, bewoner, certificaat, impactrapportage.
"""

from __future__ import annotations

# The document language and list joining are the one rule in ``surveyhub.locale``.
from surveyhub.locale import join_words, language  # noqa: F401 (re-exported)

CERTIFICATE = {
    "nl": {
        "certificate": "Certificaat",
        "participation": "Bewijs van deelname",
        "for": "voor",
        "intro": "Je deed mee aan {project} van {organisation}. Daar mag je trots op zijn!",
        "grown_heading": "Hier ben je in gegroeid",
        "col_start": "Bij de start",
        "col_now": "Nu",
        "grown": "gegroeid",
        "strong_heading": "Hier blijf je sterk in",
        "strong_line": "Je blijft sterk in {skills}.",
        "top_growth": "Je groeide het meest in {skill}.",
        "no_growth": "Fijn dat je meedeed. Jouw inzet maakt de buurt sterker.",
        "from_to": "van {start} naar {now}",
        "grew_within": "nog steeds {now}, maar wel gegroeid",
        "chart_alt": "Grafiek: waar je stond bij de start en waar je nu staat, voor {skills}.",
        "participation_intro": "Je vulde de vragenlijst in bij de start van {project} van {organisation}. Goed gedaan!",
        "participation_skills": "In dit project werk je aan:",
        "participation_next": "Na de eindmeting kun je een certificaat krijgen. Daarop staat hoe je gegroeid bent.",
        "issued_on": "Uitgereikt op {date}",
        "signature": "Handtekening opbouwwerker",
        "verify": "Is dit document echt? Kijk op {url}",
        "code": "Code: {code}",
        "qr_alt": "QR-code naar de controlepagina van dit document",
        "logo_alt": "Logo van {organisation}",
        "and": "en",
    },
    "en": {
        "certificate": "Certificate",
        "participation": "Certificate of participation",
        "for": "for",
        "intro": "You took part in {project} by {organisation}. You can be proud of that!",
        "grown_heading": "This is where you grew",
        "col_start": "At the start",
        "col_now": "Now",
        "grown": "grown",
        "strong_heading": "Where you keep going strong",
        "strong_line": "You keep going strong in {skills}.",
        "top_growth": "You grew most in {skill}.",
        "no_growth": "Thank you for taking part. Your effort makes the neighbourhood stronger.",
        "from_to": "from {start} to {now}",
        "grew_within": "still {now}, but you grew",
        "chart_alt": "Chart: where you stood at the start and where you stand now, for {skills}.",
        "participation_intro": "You filled in the questionnaire at the start of {project} by {organisation}. Well "
                               "done!",
        "participation_skills": "In this project you work on:",
        "participation_next": "After the final questionnaire you can get a certificate that shows how you grew.",
        "issued_on": "Issued on {date}",
        "signature": "Signature of the community worker",
        "verify": "Is this document genuine? Check it at {url}",
        "code": "Code: {code}",
        "qr_alt": "QR code to the check page of this document",
        "logo_alt": "Logo of {organisation}",
        "and": "and",
    },
}

REPORT = {
    "nl": {
        "title": "Impactrapportage",
        "subtitle": "Wat {project} bewoners heeft opgeleverd",
        "made_on": "Gemaakt op {date}",
        "contents": "Inhoud",
        "page": "pagina",
        "page_of": "Pagina {page} van {pages}",
        "summary": "Samenvatting",
        "participation": "Wie deden mee",
        "change": "Verandering per vaardigheid",
        "reliable_change": "Wie ging duidelijk vooruit?",
        "retrospective": "Zelf ervaren verandering",
        "quotes": "Wat bewoners zeggen",
        "extra": "Aanvullingen",
        "method": "Hoe we hebben gemeten",
        # summary sentences: words first, then the number
        "paired_line": "{paired} bewoners vulden de vragenlijst in bij de start én aan het eind.",
        "grew": "Bewoners zijn gegroeid in {skill}: van gemiddeld {pre} naar {post}{scale_max}.",
        "declined": "Bij {skill} gingen bewoners gemiddeld achteruit: van {pre} naar {post}{scale_max}.",
        "unclear": "Bij {skill} zien we geen duidelijke verandering: van gemiddeld {pre} naar {post}{scale_max}.",
        "unsure": "Bij {skill} ging het gemiddelde van {pre} naar {post}{scale_max}. "
                  "Er deden te weinig bewoners mee om te zeggen hoe zeker dat is.",
        "too_few": "Bij {skill} deden te weinig bewoners beide metingen mee om cijfers te tonen.",
        "on_max": " op {max}",
        "certainty": "Met 95% zekerheid ligt de gemiddelde verandering tussen {lo} en {hi}.",
        "rci_up": "{improved} van de {n} bewoners gingen er duidelijk op vooruit.",
        "rci_down": "{deteriorated} gingen duidelijk achteruit.",
        "rci_none_down": "Niemand ging duidelijk achteruit.",
        "less_than": "minder dan {n}",
        "at_least": "{n} of meer",
        "retro_line": "Zelf ervaren verandering (terugblik): {sentence}",
        # participation
        "invited": "Uitgenodigd",
        "pre_done": "Nulmeting (start) ingevuld",
        "post_done": "Eindmeting ingevuld",
        "paired": "Start en eind gekoppeld",
        "match_rate": "Koppelpercentage",
        "match_rate_note": "Het koppelpercentage is het deel van de eindmetingen dat we konden koppelen aan een "
                           "nulmeting van dezelfde bewoner.",
        # per scale
        "n_pairs": "Aantal bewoners met start en eind",
        "pre_mean": "Gemiddelde bij de start (SD)",
        "post_mean": "Gemiddelde aan het eind (SD)",
        "then_mean": "Gemiddelde bij de terugblik (SD)",
        "change_mean": "Verandering (SD)",
        "ci": "95%-betrouwbaarheidsinterval van de verandering",
        "d_z": "Effectgrootte d_z",
        "d_av": "Effectgrootte d_av",
        "g_av": "Effectgrootte g_av (Hedges)",
        "t_test": "Gepaarde t-toets",
        "p": "p-waarde",
        "wilcoxon": "Wilcoxon-toets, p-waarde",
        "hidden_means": "niet getoond: minder dan {n} bewoners",
        "hidden_tests": "niet getoond: minder dan {n} bewoners",
        "not_computable": "niet te berekenen",
        "chart_alt": "Grafiek: gemiddelde bij de start en aan het eind per vaardigheid, met het 95%-interval van de "
                     "verandering.",
        "rci_chart_alt": "Grafiek: per vaardigheid hoeveel bewoners duidelijk vooruit, gelijk of achteruit gingen.",
        "retro_chart_alt": "Grafiek: start, terugblik en eind per vaardigheid.",
        "radar_alt": "Grafiek: alle vaardigheden bij de start en aan het eind.",
        "funnel_chart": "Grafiek: hoeveel bewoners meededen bij elke stap.",
        "improved": "Duidelijk vooruit",
        "unchanged": "Ongeveer gelijk",
        "deteriorated": "Duidelijk achteruit",
        "rci_intro": "Per bewoner kijken we of de verandering groter is dan wat door toeval kan komen "
                     "(betrouwbare verandering, Jacobson en Truax). Aantallen onder {min_cell} tonen we als "
                     "\"<{min_cell}\".",
        "rci_hidden": "Te weinig bewoners om aantallen te tonen.",
        "rci_unknown": "Niet te berekenen: de betrouwbaarheid van deze vaardigheid is niet bekend.",
        "retro_intro": "Bij de eindmeting keken bewoners terug: hoe was het vóór het project? "
                       "Dit is zelf ervaren verandering: bewoners vergelijken zelf toen en nu.",
        "retro_label": "zelf ervaren verandering",
        "quotes_intro": "Deze bewoners gaven toestemming om hun woorden zonder naam te delen.",
        "no_quotes": "Geen bewoners gaven toestemming om hun woorden te delen.",
        # method
        "design": "Opzet",
        "design_text": "Bewoners vulden dezelfde vragenlijst in bij de start (nulmeting) en aan het eind (eindmeting). "
                       "We vergelijken per bewoner de start met het eind.",
        "design_retro": "Bij de eindmeting keken bewoners ook terug (terugblik): hoe was het vóór het project? "
                        "Die uitkomsten heten zelf ervaren verandering.",
        "instruments": "Meetinstrumenten",
        "version": "versie {version}",
        "reverse": "(omgekeerd gescoord)",
        "alpha": "Betrouwbaarheid (Cronbachs alfa): start {pre}, eind {post}",
        "alpha_unknown": "onbekend",
        "norms": "Normen voor betrouwbare verandering: SD {sd}, betrouwbaarheid {r}",
        "thresholds": "Kleine aantallen",
        "thresholds_text": "Gemiddelden tonen we vanaf {min_means} bewoners met start en eind. Toetsen en "
                           "effectgroottes "
                           "vanaf {min_tests}. Aantallen onder {min_cell} tonen we als \"<{min_cell}\". "
                           "Zo blijft niemand herkenbaar.",
        "pairing": "Koppelen",
        "pairing_text": "Start en eind horen bij elkaar via de persoonlijke link of via de eigen code van de bewoner.",
        "pairing_fuzzy": "{n} koppelingen via een eigen code met één klein verschil; alleen waar maar één koppeling "
                         "mogelijk was.",
        "withdrawn": "Teruggetrokken",
        "withdrawn_text": "{n} deelnemers hebben zich teruggetrokken; hun gegevens zijn verwijderd.",
        "withdrawn_one": "1 deelnemer heeft zich teruggetrokken; de gegevens zijn verwijderd.",
        "statistics": "Berekeningen",
        "statistics_text": "Verandering is eind min start. Het 95%-interval komt uit de t-verdeling. Toetsen: gepaarde "
                           "t-toets en de Wilcoxon-toets (rangtekentoets) als controle voor antwoorden op een schaal. "
                           "Effectgroottes volgens Lakens (2013): d_z = gemiddelde verandering / SD van de "
                           "verandering; "
                           "d_av = gemiddelde verandering / gemiddelde van de SD bij start en eind.",
        "rci_text": "Betrouwbare verandering (Jacobson en Truax, 1991): S_diff = SD_start × √2 × √(1 − r). "
                    "Een verandering groter dan 1,96 × S_diff telt als duidelijk.",
        "sections_by": "Aangeleverd door {plugin}",
        "code": "Code: {code}",
        "verify": "Controleer of deze rapportage echt is op {url}",
        "qr_alt": "QR-code naar de controlepagina van deze rapportage",
        "logo_alt": "Logo van {organisation}",
    },
    "en": {
        "title": "Impact report",
        "subtitle": "What {project} brought residents",
        "made_on": "Made on {date}",
        "contents": "Contents",
        "page": "page",
        "page_of": "Page {page} of {pages}",
        "summary": "Summary",
        "participation": "Who took part",
        "change": "Change per skill",
        "reliable_change": "Who clearly improved?",
        "retrospective": "Self-perceived change",
        "quotes": "What residents say",
        "extra": "Additions",
        "method": "How we measured",
        "paired_line": "{paired} residents filled in the questionnaire at the start and at the end.",
        "grew": "Residents grew in {skill}: from an average of {pre} to {post}{scale_max}.",
        "declined": "In {skill}, residents went down on average: from {pre} to {post}{scale_max}.",
        "unclear": "In {skill} we see no clear change: from an average of {pre} to {post}{scale_max}.",
        "unsure": "In {skill} the average went from {pre} to {post}{scale_max}. "
                  "Too few residents took part to say how sure that is.",
        "too_few": "In {skill}, too few residents did both questionnaires to show figures.",
        "on_max": " out of {max}",
        "certainty": "With 95% certainty the average change lies between {lo} and {hi}.",
        "rci_up": "{improved} of the {n} residents clearly improved.",
        "rci_down": "{deteriorated} clearly went down.",
        "rci_none_down": "Nobody clearly went down.",
        "less_than": "fewer than {n}",
        "at_least": "{n} or more",
        "retro_line": "Self-perceived change (looking back): {sentence}",
        "invited": "Invited",
        "pre_done": "Start questionnaire done",
        "post_done": "Final questionnaire done",
        "paired": "Start and end paired",
        "match_rate": "Match rate",
        "match_rate_note": "The match rate is the share of final questionnaires we could pair with a start "
                           "questionnaire of the same resident.",
        "n_pairs": "Residents with start and end",
        "pre_mean": "Average at the start (SD)",
        "post_mean": "Average at the end (SD)",
        "then_mean": "Average looking back (SD)",
        "change_mean": "Change (SD)",
        "ci": "95% confidence interval of the change",
        "d_z": "Effect size d_z",
        "d_av": "Effect size d_av",
        "g_av": "Effect size g_av (Hedges)",
        "t_test": "Paired t-test",
        "p": "p-value",
        "wilcoxon": "Wilcoxon test, p-value",
        "hidden_means": "not shown: fewer than {n} residents",
        "hidden_tests": "not shown: fewer than {n} residents",
        "not_computable": "cannot be computed",
        "chart_alt": "Chart: average at the start and at the end per skill, with the 95% interval of the change.",
        "rci_chart_alt": "Chart: per skill how many residents clearly improved, stayed about the same or went down.",
        "retro_chart_alt": "Chart: start, looking back and end per skill.",
        "radar_alt": "Chart: all skills at the start and at the end.",
        "funnel_chart": "Chart: how many residents took part at each step.",
        "improved": "Clearly improved",
        "unchanged": "About the same",
        "deteriorated": "Clearly went down",
        "rci_intro": "For each resident we check whether the change is larger than chance could explain "
                     "(reliable change, Jacobson and Truax). Counts below {min_cell} show as \"<{min_cell}\".",
        "rci_hidden": "Too few residents to show counts.",
        "rci_unknown": "Cannot be computed: the reliability of this skill is not known.",
        "retro_intro": "In the final questionnaire residents looked back: how was it before the project? "
                       "This is self-perceived change: residents compare then and now themselves.",
        "retro_label": "self-perceived change",
        "quotes_intro": "These residents agreed to share their words without their name.",
        "no_quotes": "No residents agreed to share their words.",
        "design": "Design",
        "design_text": "Residents filled in the same questionnaire at the start (pre) and at the end (post). "
                       "For each resident we compare the start with the end.",
        "design_retro": "In the final questionnaire residents also looked back (retrospective block): how was it "
                        "before the project? Those results are called self-perceived change.",
        "instruments": "Instruments",
        "version": "version {version}",
        "reverse": "(reverse scored)",
        "alpha": "Reliability (Cronbach's alpha): start {pre}, end {post}",
        "alpha_unknown": "unknown",
        "norms": "Norms for reliable change: SD {sd}, reliability {r}",
        "thresholds": "Small numbers",
        "thresholds_text": "We show averages from {min_means} residents with a start and an end. Tests and effect "
                           "sizes from {min_tests}. Counts below {min_cell} show as \"<{min_cell}\". "
                           "That way nobody can be recognised.",
        "pairing": "Pairing",
        "pairing_text": "Start and end belong together through the personal link or the resident's own code.",
        "pairing_fuzzy": "{n} pairs through an own code with one small difference; only where just one pair was "
                         "possible.",
        "withdrawn": "Withdrawn",
        "withdrawn_text": "{n} participants withdrew; their data has been deleted.",
        "withdrawn_one": "1 participant withdrew; their data has been deleted.",
        "statistics": "Calculations",
        "statistics_text": "Change is end minus start. The 95% interval comes from the t distribution. Tests: paired "
                           "t-test, and the Wilcoxon signed-rank test as a check for answers on a scale. Effect sizes "
                           "after Lakens (2013): d_z = mean change / SD of the change; d_av = mean change / mean of "
                           "the SDs at start and end.",
        "rci_text": "Reliable change (Jacobson and Truax, 1991): S_diff = SD_start × √2 × √(1 − r). "
                    "A change larger than 1.96 × S_diff counts as clear.",
        "sections_by": "Provided by {plugin}",
        "code": "Code: {code}",
        "verify": "Check that this report is genuine at {url}",
        "qr_alt": "QR code to the check page of this report",
        "logo_alt": "Logo of {organisation}",
    },
}

PAPER = {
    "nl": {
        "title": "Vragenlijst",
        "waves": {"pre": "nulmeting (start)", "post": "eindmeting", "followup": "vervolgmeting"},
        "code_label": "Jouw code",
        "date_label": "Datum",
        "intro": "Zet bij elke vraag een kruisje in één hokje. Er zijn geen goede of foute antwoorden. "
                 "Weet je iets niet? Sla de vraag dan over.",
        "consent_heading": "Toestemming",
        "consent_yes": "Ik doe mee. Mijn antwoorden worden zonder mijn naam gebruikt.",
        "consent_quotes": "Mijn geschreven antwoorden mogen zonder naam in een verslag staan.",
        "looking_back": "terugblik",
        "write_here": "Schrijf hier je antwoord:",
        "number_between": "Schrijf een getal van {lo} tot {hi}:",
        "yes": "Ja",
        "no": "Nee",
        "thanks": "Dank je wel! Geef de vragenlijst terug aan je opbouwwerker.",
        "page_of": "Pagina {page} van {pages}",
        "code": "Code: {code}",
    },
    "en": {
        "title": "Questionnaire",
        "waves": {"pre": "start questionnaire", "post": "final questionnaire", "followup": "follow-up questionnaire"},
        "code_label": "Your code",
        "date_label": "Date",
        "intro": "Tick one box for each question. There are no right or wrong answers. "
                 "Not sure? Then skip the question.",
        "consent_heading": "Consent",
        "consent_yes": "I take part. My answers are used without my name.",
        "consent_quotes": "My written answers may appear in a report without my name.",
        "looking_back": "looking back",
        "write_here": "Write your answer here:",
        "number_between": "Write a number from {lo} to {hi}:",
        "yes": "Yes",
        "no": "No",
        "thanks": "Thank you! Please give the questionnaire back to your community worker.",
        "page_of": "Page {page} of {pages}",
        "code": "Code: {code}",
    },
}

SHEET = {
    "nl": {
        "title": "Persoonlijke links",
        "intro": "Knip de kaartjes los en geef elke bewoner zijn eigen kaartje. Met de QR-code of de link "
                 "opent de bewoner de vragenlijst. Deel een link nooit met iemand anders.",
        "resident": "Bewoner",
        "scan": "Scan de QR-code of typ de link:",
        "qr_alt": "QR-code van de persoonlijke link van {name}",
        "page_of": "Pagina {page} van {pages}",
        "code": "Code: {code}",
        "none": "Er zijn geen bewoners met een persoonlijke link.",
    },
    "en": {
        "title": "Personal links",
        "intro": "Cut out the cards and give each resident their own card. With the QR code or the link the "
                 "resident opens the questionnaire. Never share a link with anyone else.",
        "resident": "Resident",
        "scan": "Scan the QR code or type the link:",
        "qr_alt": "QR code of the personal link of {name}",
        "page_of": "Page {page} of {pages}",
        "code": "Code: {code}",
        "none": "There are no residents with a personal link.",
    },
}

TITLES = {
    "nl": {"certificate": "Certificaat", "participation": "Bewijs van deelname", "report": "Impactrapportage",
           "questionnaire": "Vragenlijst", "sheet": "Persoonlijke links"},
    "en": {"certificate": "Certificate", "participation": "Certificate of participation", "report": "Impact report",
           "questionnaire": "Questionnaire", "sheet": "Personal links"},
}

FILE_NAMES = {
    "nl": {"certificate": "certificaat", "participation": "deelname", "report": "impactrapportage",
           "questionnaire": "vragenlijst", "sheet": "persoonlijke-links"},
    "en": {"certificate": "certificate", "participation": "participation", "report": "impact-report",
           "questionnaire": "questionnaire", "sheet": "personal-links"},
}

