// Looking a layer up by a name the network does not have.
// expect: the network has no layer of that name
#include <convis/convis.hpp>
int main() {
    convis::Model<convis::ZFNet<10>> m;
    m.layer<"conv9">();
}
