"""Text as people type it: Unicode and diacritic folding, chat abbreviations, language detection, the query."""
