"""The measurement engine: instrument definitions, their loading and checking, the registry, question types, scoring.

- ``definition``: the shape of a definition (normalise, item ranges, digests, translated texts);
- ``yaml_loader``: safe YAML loading of instrument files;
- ``validation``: every problem in a definition, in an author's words;
- ``registry``: what the plugins register (built-ins included), plugins' objects in their guards;
- ``questions``, ``scoring``: the built-in question types and scoring methods;
- ``builtin``: the built-ins as ordinary plugins.

No Flask app or request here (question types build WTForms fields and mark texts for translation):
the plugin host hands the registry what it needs. Named ``measures`` so it
is never confused with the top-level ``instruments/`` folder, which holds instrument
definitions (data).
"""
