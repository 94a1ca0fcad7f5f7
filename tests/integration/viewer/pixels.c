/* SPDX-License-Identifier: MIT */
/*
 * kg-wall-pixels FILE.png: reads "x y" pairs on stdin and prints "x y RRGGBB" for
 * each pixel of the image, so shell tests can check colours at tile positions.
 * Exit 1 when the image cannot be read, 2 on bad input.
 */
#include <SDL.h>
#include <SDL_image.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: kg-wall-pixels FILE.png < coordinates\n");
        return 2;
    }
    SDL_Surface *raw = IMG_Load(argv[1]);
    if (raw == NULL) {
        fprintf(stderr, "kg-wall-pixels: %s: %s\n", argv[1], IMG_GetError());
        return 1;
    }
    SDL_Surface *s = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(raw);
    if (s == NULL)
        return 1;
    printf("size %d %d\n", s->w, s->h);
    int x, y;
    while (scanf("%d %d", &x, &y) == 2) {
        if (x < 0 || y < 0 || x >= s->w || y >= s->h) {
            printf("%d %d outside\n", x, y);
            continue;
        }
        Uint32 p = ((const Uint32 *)s->pixels)[(size_t)y * (size_t)(s->pitch / 4) + (size_t)x];
        printf("%d %d %06X\n", x, y, p & 0xFFFFFFu);
    }
    SDL_FreeSurface(s);
    return 0;
}
