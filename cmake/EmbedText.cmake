# cmake -DINPUT=file -DOUTPUT=file.inc -P EmbedText.cmake
# Writes `const char kDefaultValuesYaml[] = { ...bytes..., 0 };` so any content embeds safely.
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUTPUT} "const char kDefaultValuesYaml[] = {${bytes}0};\n")
