"""How Docker Compose reads `.env` files, as a table shared by the unit test of Shipyard's reader
(tests/unit/test_dotenv.py) and the test that checks the table against the real Compose
(tests/integration/test_dotenv_compose.py): (name, .env text, environment, the values Compose reads)."""

from __future__ import annotations

CASES: list[tuple[str, str, dict[str, str], dict[str, str]]] = [
    ("plain assignments, `=` in a value, spaces around `=`, `export`",
     "A=1\nB=a=b\nC = spaced\nexport D=exported\n  E=indented\n",
     {}, {"A": "1", "B": "a=b", "C": "spaced", "D": "exported", "E": "indented"}),
    ("comments: whole lines, ` #` after an unquoted value, `#` inside a value",
     "# a comment\nA=1 # trailing\n  # indented comment\nB=x#y\nC=two words   # and a comment\nD=\n",
     {}, {"A": "1", "B": "x#y", "C": "two words", "D": ""}),
    ("single quotes: literal, no interpolation, `\\'` escapes a quote",
     "A=1\nB='two words # not a comment'\nC='${A} $A \\n'\nD='it\\'s'\n",
     {}, {"A": "1", "B": "two words # not a comment", "C": "${A} $A \\n", "D": "it's"}),
    ("double quotes: escapes decoded, `#` kept inside, a comment after the quote",
     'A="say \\"hi\\"\\tthere # not a comment" # a comment\nB="back\\\\slash"\nC="{\\"k\\": 1}"\n',
     {}, {"A": 'say "hi"\tthere # not a comment', "B": "back\\slash", "C": '{"k": 1}'}),
    ("${VAR} from an assignment above, in unquoted and double-quoted values",
     'HOST=db\nURL=postgres://${HOST}:5432/app\nQUOTED="${HOST}-x"\n',
     {}, {"HOST": "db", "URL": "postgres://db:5432/app", "QUOTED": "db-x"}),
    ("${VAR}: the environment wins over the file, above or below",
     "NAME=file\nFIRST=${NAME}\nLATER=${LATE}\nLATE=file\nSHELL_ONLY=${FROM_SHELL}\n",
     {"NAME": "env", "LATE": "env", "FROM_SHELL": "shell"},
     {"NAME": "file", "FIRST": "env", "LATER": "env", "LATE": "file", "SHELL_ONLY": "shell"}),
    ("${VAR:-default} and an unset ${VAR}",
     'A=${MISSING:-fallback}\nB=${MISSING}\nC="${EMPTY:-was empty}"\nEMPTY=\nD=${EMPTY:-was empty}\n',
     {}, {"A": "fallback", "B": "", "C": "was empty", "EMPTY": "", "D": "was empty"}),
    ("multi-line values: newlines inside quotes, `\\n` in double quotes",
     "A=\"line one\nline two\"\nB='x\ny'\nC=\"one\\ntwo\"\nD=after\n",
     {}, {"A": "line one\nline two", "B": "x\ny", "C": "one\ntwo", "D": "after"}),
    ("a key without `=` sets nothing of its own",
     "LONELY\nA=1\n",
     {}, {"A": "1"}),
]

#: .env texts that Compose refuses, and the line Shipyard names
INVALID: list[tuple[str, str, int]] = [
    ("a key with a space", "A=1\n\nnot a pair\n", 3),
    ("quotes run together", "A='it''s'\n", 1),
    ("an unterminated quote", "A=1\nB=\"unterminated\nC=3\n", 2),
]
