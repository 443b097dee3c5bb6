#include <iostream>
int main() { std::cout << "kjq\n"; return 0; }
